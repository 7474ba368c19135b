// Package pgdemo holds only tests: it loads the demo data set into
// PostgreSQL, to time the load and to check that the data is the same as
// in memory. It is apart from package demo so that demo's own tests need
// no database server.
package pgdemo
