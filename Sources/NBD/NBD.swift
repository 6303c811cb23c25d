// The NBD module.
