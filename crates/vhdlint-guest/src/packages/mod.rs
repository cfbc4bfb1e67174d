//! The guest's package databases, read from their bytes: dpkg's status file ([`dpkg`]) and
//! rpm's SQLite database ([`rpmdb`]). [`crate::facts`] reads the installed packages from
//! whichever the image has; versions are ordered by [`crate::version`].

pub mod dpkg;
pub mod rpmdb;
