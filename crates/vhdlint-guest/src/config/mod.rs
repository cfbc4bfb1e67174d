//! Parsers of the guest's configuration files. Each is a pure function over the file's text
//! (the guest view reads the files, with a size cap) that keeps the line number of everything
//! it reports, so checks can cite `path:line` as evidence.
