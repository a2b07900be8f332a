package driver

import (
	"context"
	"testing"
)

// Numbers follow the run's clients, not the order the starts reach the
// factory: a batch takes a block, later batches and slotless starts follow it.
func TestNumbersFollowTheClientsNotTheStartOrder(t *testing.T) {
	var n Numbers
	ctx := context.Background()
	a, b := NewBatch(3), NewBatch(2)
	got := []int64{
		n.Next(WithSlot(ctx, a, 2)), // the last client's start comes first
		n.Next(WithSlot(ctx, a, 0)),
		n.Next(WithSlot(ctx, b, 1)), // the next scenario's, before a is complete
		n.Next(WithSlot(ctx, a, 1)),
		n.Next(WithSlot(ctx, b, 0)),
		n.Next(ctx), // no slot: the next number
	}
	want := []int64{3, 1, 5, 2, 4, 6}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("numbers %v, want %v", got, want)
		}
	}
	if len(n.bases) != 0 || len(n.given) != 0 {
		t.Errorf("complete batches are forgotten: %v %v", n.bases, n.given)
	}
}
