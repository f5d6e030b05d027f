/* party: not yet written. */
