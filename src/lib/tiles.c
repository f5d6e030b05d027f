/* tiles: not yet written. */
