/* cosignature: not yet written. */
