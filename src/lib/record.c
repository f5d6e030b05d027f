/* record: not yet written. */
