//! The initramfs: concatenated cpio (newc) archives, compressed or not, with an early-microcode
//! archive in front.
