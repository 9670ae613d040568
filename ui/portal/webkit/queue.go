package webkit

import "sync"

// queue hands values from the stdout reader to an unbuffered channel in
// order, so that a slow reader of Calls or Events never blocks the reader
// of the helper's output. It holds at most max values; push refuses more.
type queue[T any] struct {
	out  chan T
	wake chan struct{}

	mu    sync.Mutex
	items []T
	max   int
	ended bool
}

func newQueue[T any](max int) *queue[T] {
	return &queue[T]{out: make(chan T), wake: make(chan struct{}, 1), max: max}
}

// push queues v; false when the queue is full or ended.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.ended || len(q.items) >= q.max {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.signal()
	return true
}

// end means no more values: out is closed once the queued ones are
// delivered.
func (q *queue[T]) end() {
	q.mu.Lock()
	q.ended = true
	q.mu.Unlock()
	q.signal()
}

func (q *queue[T]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run delivers the values on out until the queue has ended and is empty,
// or stop is closed; then it closes out.
func (q *queue[T]) run(stop <-chan struct{}) {
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			ended := q.ended
			q.mu.Unlock()
			if ended {
				return
			}
			select {
			case <-q.wake:
				continue
			case <-stop:
				return
			}
		}
		v := q.items[0]
		var zero T
		q.items[0] = zero
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- v:
		case <-stop:
			return
		}
	}
}
