/* chain: not yet written. */
