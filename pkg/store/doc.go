// Package store keeps cuttle's durable state in one bbolt file, cuttle.db, in
// the data directory.
//
// # Invariants
//
//   - One process owns the data directory. Open takes bbolt's file lock with a
//     short timeout and, when another process holds it, fails at once with
//     ErrLocked naming that process's pid (read from cuttle.pid beside the db).
//   - Every write is fsynced before Update returns: an acknowledged write
//     survives a crash or a power cut.
//   - The schema is versioned. Open applies, in one transaction each, every
//     migration step the file has not seen yet; a file written by a newer
//     cuttle (a higher version than this build knows) is refused.
//   - Transactions never escape their closure: callers use Update and View.
//
// store imports nothing of cuttle's; domain packages own the meaning of their
// buckets and add their bucket to the migration list.
package store
