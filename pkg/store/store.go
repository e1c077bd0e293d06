package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the name of the database file inside the data directory.
const FileName = "cuttle.db"

// pidFileName records which process owns the data directory, so that a second
// instance can say who holds the lock.
const pidFileName = "cuttle.pid"

// Errors returned by Open.
var (
	// ErrLocked is returned when another process holds the data directory.
	ErrLocked = errors.New("store: data dir already in use")
	// ErrTooNew is returned when the file's schema version is newer than this
	// build knows how to read.
	ErrTooNew = errors.New("store: database written by a newer cuttle")
)

// Options tune Open. The zero value is what cuttle serve uses.
type Options struct {
	// LockTimeout bounds the wait for the file lock. Zero means 500ms.
	LockTimeout time.Duration
	// Migrations replaces the built-in migration list (tests only).
	Migrations []Migration
}

// DB is an open cuttle database. It is safe for concurrent use: bbolt allows
// one writer and many readers at a time.
type DB struct {
	bolt    *bolt.DB
	dir     string
	version int
}

// Open opens (creating if needed) dir/cuttle.db and migrates it to the newest
// schema. The context bounds nothing inside bbolt; it is checked between
// migration steps.
func Open(ctx context.Context, dir string, opts Options) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %q: %w", dir, err)
	}
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = 500 * time.Millisecond
	}
	path := filepath.Join(dir, FileName)
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, lockedError(dir)
		}
		return nil, fmt.Errorf("store: open %q: %w", path, err)
	}
	db := &DB{bolt: b, dir: dir}
	if err := os.WriteFile(filepath.Join(dir, pidFileName), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		b.Close()
		return nil, fmt.Errorf("store: write pid file: %w", err)
	}
	steps := opts.Migrations
	if steps == nil {
		steps = Migrations()
	}
	if err := db.migrate(ctx, steps); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func lockedError(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, pidFileName))
	pid := strings.TrimSpace(string(raw))
	if err != nil || pid == "" {
		return fmt.Errorf("%w: %s is locked by another process", ErrLocked, dir)
	}
	return fmt.Errorf("%w by pid %s: %s", ErrLocked, pid, dir)
}

// Dir returns the data directory the database lives in.
func (db *DB) Dir() string { return db.dir }

// Version returns the schema version the file is at.
func (db *DB) Version() int { return db.version }

// Close releases the file lock. Calls after the first return nil.
func (db *DB) Close() error {
	if db.bolt == nil {
		return nil
	}
	os.Remove(filepath.Join(db.dir, pidFileName))
	err := db.bolt.Close()
	db.bolt = nil
	return err
}

// Update runs fn in a read-write transaction, committed (and fsynced) when fn
// returns nil and rolled back otherwise.
func (db *DB) Update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(fn)
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.View(fn)
}
