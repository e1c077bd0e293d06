package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Migration is one schema step. Steps run in order, each in its own
// transaction, and each exactly once per file.
type Migration struct {
	// Name says what the step does, for errors and logs.
	Name string
	// Apply changes the file. It must only create or reshape data.
	Apply func(tx *bolt.Tx) error
}

// Bucket names owned by cuttle's domain packages. The owning package gives
// each its meaning; store only creates them.
var (
	BucketMeta     = []byte("meta")
	BucketUsers    = []byte("users")
	BucketAPIKeys  = []byte("apikeys")
	BucketSessions = []byte("sessions")
	BucketSettings = []byte("settings")
	BucketAppKeys  = []byte("appkeys")
	// BucketFiles is the index of the local file storage (package files).
	BucketFiles = []byte("files")
	// BucketPrinterProfiles holds printer profiles (package printer).
	BucketPrinterProfiles = []byte("printerprofiles")
)

var keySchemaVersion = []byte("schema_version")

// Migrations returns cuttle's schema steps. Append new steps at the end; never
// edit or reorder a released one.
func Migrations() []Migration {
	return []Migration{
		{Name: "create auth buckets", Apply: createBuckets(BucketUsers, BucketAPIKeys, BucketSessions, BucketSettings)},
		{Name: "create app keys bucket", Apply: createBuckets(BucketAppKeys)},
		{Name: "create files and printer profile buckets", Apply: createBuckets(BucketFiles, BucketPrinterProfiles)},
	}
}

// CreateBuckets returns a migration body that creates the named buckets.
func CreateBuckets(names ...[]byte) func(tx *bolt.Tx) error { return createBuckets(names...) }

func createBuckets(names ...[]byte) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return fmt.Errorf("create bucket %q: %w", n, err)
			}
		}
		return nil
	}
}

func (db *DB) migrate(ctx context.Context, steps []Migration) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(BucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keySchemaVersion); len(v) == 8 {
			db.version = int(binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if db.version > len(steps) {
		return fmt.Errorf("%w: schema version %d, this build knows %d", ErrTooNew, db.version, len(steps))
	}
	for i := db.version; i < len(steps); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		step := steps[i]
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			if err := step.Apply(tx); err != nil {
				return err
			}
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], uint64(i+1))
			return tx.Bucket(BucketMeta).Put(keySchemaVersion, v[:])
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", i+1, step.Name, err)
		}
		db.version = i + 1
	}
	return nil
}
