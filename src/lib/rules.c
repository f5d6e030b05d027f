/* rules: not yet written. */
