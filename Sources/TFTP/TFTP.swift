// The TFTP module.
