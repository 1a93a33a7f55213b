package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/labs-dev/labs/content"
)

// labs test runs labs of scope namespace side by side, at most --parallel
// at once, and a lab of scope node or cluster alone, never beside another.
func TestEachLabRunsNamespaceLabsTogetherAndOthersAlone(t *testing.T) {
	scopes := []string{content.ScopeNamespace, content.ScopeNode, content.ScopeNamespace, content.ScopeNamespace, content.ScopeCluster, content.ScopeNamespace, ""}
	var labs []*content.Lab
	for _, s := range scopes {
		labs = append(labs, &content.Lab{Meta: content.Meta{Scope: s}})
	}
	for _, parallel := range []int{1, 3} {
		var mu sync.Mutex
		running, most := 0, 0
		aloneBeside := false
		ran := map[int]int{}
		eachLab(context.Background(), labs, parallel, func(i int) {
			mu.Lock()
			running++
			most = max(most, running)
			if (scopes[i] == content.ScopeNode || scopes[i] == content.ScopeCluster) && running > 1 {
				aloneBeside = true
			}
			ran[i]++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			if running > 1 && (scopes[i] == content.ScopeNode || scopes[i] == content.ScopeCluster) {
				aloneBeside = true
			}
			running--
			mu.Unlock()
		})
		want := min(parallel, 5) // five labs of scope namespace
		if most != want {
			t.Errorf("parallel %d: at most %d labs ran at once, want %d", parallel, most, want)
		}
		if aloneBeside {
			t.Errorf("parallel %d: a node or cluster lab ran beside another", parallel)
		}
		for i := range labs {
			if ran[i] != 1 {
				t.Errorf("parallel %d: lab %d ran %d times, want once", parallel, i, ran[i])
			}
		}
	}
}

// After Ctrl-C no further lab starts.
func TestEachLabStopsOnCancel(t *testing.T) {
	labs := []*content.Lab{{Meta: content.Meta{Scope: content.ScopeNamespace}}, {Meta: content.Meta{Scope: content.ScopeNode}}, {Meta: content.Meta{Scope: content.ScopeNode}}}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	eachLab(ctx, labs, 2, func(i int) {
		n++
		cancel()
	})
	if n != 1 {
		t.Fatalf("%d labs ran after the first cancelled, want 1", n)
	}
}
