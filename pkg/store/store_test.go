package store_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

func TestOpen_MigratesOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	runs := 0
	steps := []store.Migration{
		{Name: "a", Apply: store.CreateBuckets([]byte("a"))},
		{Name: "count", Apply: func(*bolt.Tx) error { runs++; return nil }},
	}
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, dir, store.Options{Migrations: steps})
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		if db.Version() != 2 {
			t.Errorf("Version() = %d; want 2", db.Version())
		}
		db.Close()
	}
	if runs != 1 {
		t.Errorf("migration ran %d times; want 1", runs)
	}
	// A build that knows fewer steps refuses the newer file.
	_, err := store.Open(ctx, dir, store.Options{Migrations: steps[:1]})
	if !errors.Is(err, store.ErrTooNew) {
		t.Errorf("Open with older schema = %v; want ErrTooNew", err)
	}
}

func TestOpen_FailedMigrationLeavesVersion(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	boom := errors.New("boom")
	steps := []store.Migration{
		{Name: "ok", Apply: store.CreateBuckets([]byte("a"))},
		{Name: "bad", Apply: func(tx *bolt.Tx) error { tx.CreateBucket([]byte("half")); return boom }},
	}
	if _, err := store.Open(ctx, dir, store.Options{Migrations: steps}); !errors.Is(err, boom) {
		t.Fatalf("Open = %v; want boom", err)
	}
	db, err := store.Open(ctx, dir, store.Options{Migrations: steps[:1]})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	db.View(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("half")) != nil {
			t.Error("bucket from the failed step was committed")
		}
		return nil
	})
}

func TestOpen_SecondInstanceFailsFast(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = store.Open(ctx, dir, store.Options{})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open = %v; want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name the owning pid", err)
	}
}

func TestUpdate_CanceledContext(t *testing.T) {
	db, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Update(ctx, func(*bolt.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update(canceled) = %v; want context.Canceled", err)
	}
}
