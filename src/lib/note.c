/* note: not yet written. */
