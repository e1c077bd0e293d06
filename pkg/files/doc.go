// Package files is cuttle's "local" file storage: the uploads folder under the
// data directory, with folders, streamed uploads, and per-file metadata
// (hash, size, date, owner, G-code analysis, print history, user data)
// indexed in the bbolt database.
//
// # Invariants
//
//   - Every path handed in is checked before it touches the disk: absolute
//     paths, "..", NUL and control characters, components longer than 255
//     bytes and paths resolving through a symlink out of the root are refused
//     with ErrInvalidPath. Names are sanitised OctoPrint's way (ASCII, no
//     spaces); the name the client sent is kept as the entry's Display.
//   - An upload is written to a temporary file inside the root (same file
//     system) and renamed into place only when complete and fsynced, so a
//     failed or aborted upload leaves nothing behind and a reader never sees
//     half a file.
//   - The index in bbolt mirrors the tree: a single entry is one key lookup
//     and a listing is one prefix scan; nothing walks the directory except
//     Reconcile, which runs at start-up and on a forced refresh.
//   - A file held by a job (Hold) can be neither overwritten, moved nor
//     deleted: those return ErrInUse.
//   - Analysis runs in the background, one file at a time (Run); its result
//     and any embedded thumbnail (kept under .thumbs by content hash) are
//     stored only if the file did not change meanwhile.
//   - A thumbnail image lives as long as an index entry names it: copies
//     share one, and removing, overwriting or re-analysing the last entry
//     naming it removes it, after the index commit. A crash in between
//     leaves an unreferenced image, which Reconcile (run by Open) removes.
//
// Storage is safe for concurrent use. Mutations of the tree and the index
// are serialised by one mutex; the bytes of an upload are streamed outside it.
package files
