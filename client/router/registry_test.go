package router

import (
	"reflect"
	"testing"
)

// Members is the set in join order: a name added twice stays where it
// joined, a removed one leaves, an empty name is the URL, and the list
// returned is a copy.
func TestRegistryMembers(t *testing.T) {
	r := NewRegistry(Change{Name: "a", URL: "ws://a"}, Change{Op: Remove, Name: "b", URL: "ws://b"})
	r.Add("c", "ws://c")
	r.Add("a", "ws://elsewhere")
	r.Add("", "ws://d")
	r.Remove("b")
	r.Remove("nobody")
	want := []Change{{Add, "a", "ws://a"}, {Add, "c", "ws://c"}, {Add, "ws://d", "ws://d"}}
	got := r.Members()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	got[0].Name = "changed"
	if r.Members()[0].Name != "a" {
		t.Error("Members returned the registry's own slice")
	}
}
