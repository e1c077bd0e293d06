package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cuttleprint/cuttle/pkg/events"
	"github.com/cuttleprint/cuttle/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// Analyser analyses one G-code file read from r (size bytes), reporting its
// progress as a fraction from 0 to 1. GcodeAnalyser is the one cuttle runs;
// tests inject their own.
type Analyser func(ctx context.Context, r io.Reader, size int64, progress func(float64)) (Analysis, error)

// Analysis is an Analyser's outcome.
type Analysis struct {
	// Result is stored as the file's gcodeAnalysis (any JSON-encodable value).
	Result any
	// Thumbnail is an embedded preview image, if the file has one, and
	// ThumbnailExt its extension ("png" or "jpg").
	Thumbnail    []byte
	ThumbnailExt string
}

// analysisQueue is the list of paths waiting for analysis and the progress
// of the one running. Its own mutex guards it; it never takes Storage.mu.
type analysisQueue struct {
	mu      sync.Mutex
	pending []string
	running string
	frac    float64
	cancel  context.CancelFunc // cancels the running analysis
	wake    chan struct{}
	paused  bool // no analysis starts while set (a print is running)
}

func (q *analysisQueue) init() { q.wake = make(chan struct{}, 1) }

// push queues p unless it is queued already; a running analysis of p is
// cancelled and restarted (the file changed).
func (q *analysisQueue) push(p string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running == p && q.cancel != nil {
		q.cancel()
	}
	for _, x := range q.pending {
		if x == p {
			return
		}
	}
	q.pending = append(q.pending, p)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drop forgets p and everything below it; a running analysis of it stops.
func (q *analysisQueue) drop(p string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	under := func(x string) bool { return x == p || (len(x) > len(p) && x[:len(p)+1] == p+"/") }
	if under(q.running) && q.cancel != nil {
		q.cancel()
	}
	kept := q.pending[:0]
	for _, x := range q.pending {
		if !under(x) {
			kept = append(kept, x)
		}
	}
	q.pending = kept
}

// next pops the next path, or "" when none is queued.
func (q *analysisQueue) next(ctx context.Context) (string, context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 || q.paused {
		return "", nil
	}
	p := q.pending[0]
	q.pending = q.pending[1:]
	actx, cancel := context.WithCancel(ctx)
	q.running, q.frac, q.cancel = p, 0, cancel
	return p, actx
}

func (q *analysisQueue) finish() {
	q.mu.Lock()
	if q.cancel != nil {
		q.cancel()
	}
	q.running, q.cancel = "", nil
	q.mu.Unlock()
}

// SetAnalysisPaused holds background analysis back (true) while a print
// runs, as OctoPrint's gcodeAnalysis.runAt "idle" does, and lets it go on
// (false). An analysis running when the pause comes is stopped and queued
// again at the front.
func (s *Storage) SetAnalysisPaused(paused bool) {
	q := &s.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	q.paused = paused
	if paused && q.running != "" && q.cancel != nil {
		q.pending = append([]string{q.running}, q.pending...)
		q.cancel()
	}
	if !paused {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// AnalysisProgress returns the progress (0–1) of p's analysis and true while
// it is queued or running.
func (s *Storage) AnalysisProgress(p string) (float64, bool) {
	q := &s.queue
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running == p {
		return q.frac, true
	}
	for _, x := range q.pending {
		if x == p {
			return 0, true
		}
	}
	return 0, false
}

// Analyse queues the file at p for (re-)analysis.
func (s *Storage) Analyse(ctx context.Context, p string) error {
	e, err := s.Get(ctx, p)
	if err != nil {
		return err
	}
	if e.Folder || !IsMachineCode(e.Name()) {
		return fmt.Errorf("files: analyse %q: %w", p, ErrUnsupportedType)
	}
	if s.analyse == nil {
		return fmt.Errorf("files: analyse %q: no analyser configured", p)
	}
	s.queue.push(e.Path)
	s.touch()
	return nil
}

// Run analyses queued files one at a time until ctx ends. Start it once;
// without an Analyser it only waits for ctx.
func (s *Storage) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.queue.wake:
		}
		if s.analyse == nil {
			continue
		}
		for {
			p, actx := s.queue.next(ctx)
			if p == "" {
				break
			}
			s.analyseOne(actx, p)
			s.queue.finish()
			if ctx.Err() != nil {
				return
			}
		}
	}
}

func (s *Storage) analyseOne(ctx context.Context, p string) {
	f, e, err := s.Open(ctx, p)
	if err != nil {
		return
	}
	defer f.Close()
	name := e.Name()
	s.publish(events.MetadataAnalysisStarted{FileName: name, Path: p, Origin: Location})
	last := -1
	res, err := s.analyse(ctx, f, e.Size, func(frac float64) {
		s.queue.mu.Lock()
		s.queue.frac = frac
		s.queue.mu.Unlock()
		if pct := int(frac * 20); pct != last { // listings change every 5 %
			last = pct
			s.touch()
		}
	})
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return
	}
	var raw json.RawMessage
	msg := ""
	if err != nil {
		msg = err.Error()
		res.Thumbnail = nil
		s.log.Warn("files: analysis failed", "path", p, "err", err)
	} else if raw, err = json.Marshal(res.Result); err != nil {
		msg = "encode analysis: " + err.Error()
		raw = nil
		res.Thumbnail = nil
	}
	s.queue.finish() // no progress shown from here on; the result follows
	if !s.storeAnalysis(context.WithoutCancel(ctx), e, raw, msg, res.Thumbnail, res.ThumbnailExt) {
		return
	}
	var result any
	if raw != nil {
		result = raw
	}
	s.publish(events.MetadataAnalysisFinished{FileName: name, Path: p, Origin: Location, Result: result})
}

// storeAnalysis saves the thumbnail and records the result in the entry of
// e.Path, unless that file changed meanwhile, and removes the image the
// entry named before if nothing else names it. It reports whether the
// result was stored.
func (s *Storage) storeAnalysis(ctx context.Context, e *Entry, raw json.RawMessage, msg string, img []byte, ext string) bool {
	// s.mu covers writing the image through committing the entry that
	// names it: a concurrent removal of another entry with the same image
	// must see the new reference or run before the image is written.
	s.mu.Lock()
	defer s.mu.Unlock()
	thumb := ""
	if len(img) > 0 {
		var err error
		if thumb, err = s.saveThumbnailLocked(e.Hash, ext, img); err != nil {
			s.log.Warn("files: save thumbnail", "path", e.Path, "err", err)
		}
	}
	old := ""
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(store.BucketFiles).Get([]byte(e.Path))
		if v == nil {
			return fmt.Errorf("files: %q: %w", e.Path, ErrNotFound)
		}
		cur := new(Entry)
		if err := json.Unmarshal(v, cur); err != nil {
			return fmt.Errorf("files: index entry %q: %w", e.Path, err)
		}
		if cur.Hash != e.Hash {
			return errStale
		}
		old = cur.Thumbnail
		cur.Analysis, cur.AnalysisError, cur.Thumbnail = raw, msg, thumb
		return s.put(tx, cur)
	})
	if err != nil {
		// The image just saved may be named by no entry (the file changed
		// or went away); one of the same content elsewhere keeps it.
		s.dropThumbsLocked(ctx, thumb)
		return false
	}
	s.touchLocked()
	if old != thumb {
		s.dropThumbsLocked(ctx, old)
	}
	return true
}

var errStale = errors.New("file changed during analysis")
