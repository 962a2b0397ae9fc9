package testkit

import (
	"os/exec"
	"testing"
	"time"
)

func TestStagesAndProcess(t *testing.T) {
	var s Stages
	ch := s.Reached("auth")
	select {
	case <-ch:
		t.Fatal("reached before Reach")
	default:
	}
	s.Reach("auth")
	s.Reach("auth") // twice is fine
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("not reached after Reach")
	}
	// A shell whose child would outlive it: Stop takes the group.
	p, err := Start(exec.Command("sh", "-c", "sleep 60 & wait"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	if p.Err == nil {
		t.Fatal("a killed process exited cleanly")
	}
}
