//! XFS (v5 as made by current xfsprogs).
