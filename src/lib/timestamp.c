/* timestamp: not yet written. */
