/* box: not yet written. */
