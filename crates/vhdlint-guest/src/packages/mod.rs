//! The guest's package databases, read from their bytes: dpkg's status file ([`dpkg`]) and
//! rpm's database in its three forms: SQLite ([`rpmdb`]), ndb ([`rpmdb_ndb`]) and Berkeley DB
//! hash ([`rpmdb_bdb`]). [`crate::facts`] reads the installed packages from
//! whichever the image has; versions are ordered by [`crate::version`].

pub mod dpkg;
pub mod rpmdb;
pub mod rpmdb_bdb;
pub mod rpmdb_ndb;
