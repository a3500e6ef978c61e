package ghapi

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// pagesOf serves a listing of n pages of two items each, numbered from 1 (0 asks for the first),
// and records the pages asked for.
func pagesOf(n int, asked *[]int) func(page int) ([]string, Page, error) {
	return func(page int) ([]string, Page, error) {
		*asked = append(*asked, page)
		p := max(page, 1)
		items := []string{fmt.Sprintf("%d.a", p), fmt.Sprintf("%d.b", p)}
		if p >= n {
			return items, Page{Last: n}, nil
		}
		return items, Page{Next: p + 1, Last: n}, nil
	}
}

func TestEachPageReadsToTheLastPage(t *testing.T) {
	t.Parallel()
	var asked []int
	var got []string
	if err := EachPage(pagesOf(3, &asked), all(&got)); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 3}; !reflect.DeepEqual(asked, want) {
		t.Errorf("pages asked %v, want %v", asked, want)
	}
	if want := []string{"1.a", "1.b", "2.a", "2.b", "3.a", "3.b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("items %v, want %v", got, want)
	}
}

func TestEachPageStopsWhenVisitSaysSo(t *testing.T) {
	t.Parallel()
	var asked []int
	var seen int
	err := EachPage(pagesOf(5, &asked), func(items []string) (bool, error) {
		seen += len(items)
		return seen < 4, nil
	})
	if err != nil || !reflect.DeepEqual(asked, []int{0, 2}) {
		t.Errorf("asked %v, err %v; want pages [0 2] and no error", asked, err)
	}
}

func TestEachPageStopsOnAnEmptyPageThatPointsOn(t *testing.T) {
	t.Parallel()
	calls := 0
	err := EachPage(func(page int) ([]string, Page, error) {
		calls++
		if calls > 3 {
			t.Fatal("still reading after an empty page")
		}
		return nil, Page{Next: 2}, nil
	}, func([]string) (bool, error) { return true, nil })
	if err != nil || calls != 1 {
		t.Errorf("calls %d, err %v; want 1 call and no error", calls, err)
	}
}

func TestEachPageReturnsTheFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var asked []int
	fetch := pagesOf(3, &asked)
	err := EachPage(func(page int) ([]string, Page, error) {
		if page == 2 {
			return nil, Page{}, boom
		}
		return fetch(page)
	}, func([]string) (bool, error) { return true, nil })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	stop := errors.New("visit failed")
	asked = nil
	err = EachPage(pagesOf(3, &asked), func([]string) (bool, error) { return true, stop })
	if !errors.Is(err, stop) || len(asked) != 1 {
		t.Errorf("err = %v after pages %v, want the visit's error after one page", err, asked)
	}
}
