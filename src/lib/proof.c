/* proof: not yet written. */
