/* checkpoint: not yet written. */
