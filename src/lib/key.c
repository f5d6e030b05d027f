/* key: not yet written. */
