/* tlog: not yet written. */
