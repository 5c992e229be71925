package dist

import "sync"

// notifier fans result announcements out to the Execute calls waiting
// for them. A slow or absent reader loses announcements, never blocks
// the connection: Execute also polls the results bucket.
type notifier struct {
	mu   sync.Mutex
	subs map[chan string]bool
}

func newNotifier() *notifier { return &notifier{subs: map[chan string]bool{}} }

func (n *notifier) subscribe() chan string {
	ch := make(chan string, 256)
	n.mu.Lock()
	n.subs[ch] = true
	n.mu.Unlock()
	return ch
}

func (n *notifier) unsubscribe(ch chan string) {
	n.mu.Lock()
	delete(n.subs, ch)
	n.mu.Unlock()
}

func (n *notifier) send(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- key:
		default:
		}
	}
}
