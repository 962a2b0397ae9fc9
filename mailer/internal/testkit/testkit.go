// Package testkit holds what the mailer's test servers (smtptest,
// imaptest, carddavtest) share: a server process stopped with all its
// children, and stages a test can wait for without sleeping.
package testkit

import (
	"fmt"
	"os/exec"
	"sync"
	"time"
)

// Process is a server started in a process group of its own.
type Process struct {
	cmd *exec.Cmd
	// Exited is closed when the process has exited; Err is its exit
	// status then.
	Exited chan struct{}
	Err    error
}

// Start starts cmd in a process group of its own (keeping any credential
// already in cmd.SysProcAttr), so that Stop takes its children with it.
func Start(cmd *exec.Cmd) (*Process, error) {
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, Exited: make(chan struct{})}
	go func() {
		p.Err = cmd.Wait()
		close(p.Exited)
	}()
	return p, nil
}

// Stop kills the process's group and waits for the process to exit.
func (p *Process) Stop() {
	killGroup(p.cmd.Process.Pid)
	<-p.Exited
}

// Stages are named moments of a test server's sessions ("greeting",
// "auth", "append"...). The zero value is ready to use.
type Stages struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// Reached returns a channel closed once a session has reached stage.
func (s *Stages) Reached(stage string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chanLocked(stage)
}

// Reach records that a session has reached stage.
func (s *Stages) Reach(stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chanLocked(stage)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (s *Stages) chanLocked(stage string) chan struct{} {
	if s.m == nil {
		s.m = make(map[string]chan struct{})
	}
	ch, ok := s.m[stage]
	if !ok {
		ch = make(chan struct{})
		s.m[stage] = ch
	}
	return ch
}

// WaitReady calls probe every few milliseconds until it succeeds, the
// process exits, or timeout passes. name is the program's, what the answer
// probe waits for ("greeting"), both for the error.
func (p *Process) WaitReady(name, what string, timeout time.Duration, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		select {
		case <-p.Exited:
			return fmt.Errorf("%s exited: %v", name, p.Err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %s: %v", what, timeout, err)
		}
		select {
		case <-p.Exited:
		case <-time.After(5 * time.Millisecond):
		}
	}
}
