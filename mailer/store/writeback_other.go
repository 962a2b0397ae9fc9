//go:build !linux

package store

import "os"

// startWriteback does nothing where sync_file_range does not exist: the
// sync at the end of the write does it all.
func startWriteback(*os.File, int64, int64) {}

// syncData makes f's content durable: a full sync where fdatasync is not
// to be had.
func syncData(f *os.File) error { return f.Sync() }
