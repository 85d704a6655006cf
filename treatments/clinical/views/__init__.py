"""Clinical screens, one module per part of the record. Every view is for clinical roles only
and leaves an audit entry."""
