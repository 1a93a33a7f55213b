package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ProgressConfigMap is the ConfigMap in a learner's namespace that holds
// their progress on a class cluster: "current" names the current lab,
// "LAB.json" is a lab's Progress.
const ProgressConfigMap = "labs-progress"

// ConfigMapStore keeps progress in the learner's namespace, so it follows
// the learner to another machine and the instructor can read it. Updates
// are compare-and-swap on the ConfigMap's resourceVersion: two commands
// (on one machine or two) never lose each other's change, with no lock.
type ConfigMapStore struct {
	Client    func() (kubernetes.Interface, error)
	Namespace string
}

func (s ConfigMapStore) get(ctx context.Context) (kubernetes.Interface, *corev1.ConfigMap, error) {
	c, err := s.Client()
	if err != nil {
		return nil, nil, err
	}
	cm, err := c.CoreV1().ConfigMaps(s.Namespace).Get(ctx, ProgressConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return c, nil, nil
	}
	if apierrors.IsUnauthorized(err) {
		return nil, nil, errTokenRefused
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading your progress (ConfigMap %s in namespace %s): %w", ProgressConfigMap, s.Namespace, err)
	}
	return c, cm, nil
}

func progressKey(lab string) string { return lab + ".json" }

func decodeProgress(cm *corev1.ConfigMap, lab string) (*Progress, error) {
	if cm == nil {
		return nil, nil
	}
	raw, ok := cm.Data[progressKey(lab)]
	if !ok {
		return nil, nil
	}
	var p Progress
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("%w: key %s of ConfigMap %s in namespace %s (%v); `labs reset %s` starts the lab over", ErrDamaged, progressKey(lab), ProgressConfigMap, cm.Namespace, err, lab)
	}
	p.Lab = lab
	return &p, nil
}

// Load returns the lab's progress, nil when it was never started.
func (s ConfigMapStore) Load(ctx context.Context, lab string) (*Progress, error) {
	_, cm, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	return decodeProgress(cm, lab)
}

// Save replaces the lab's progress.
func (s ConfigMapStore) Save(ctx context.Context, lab string, p *Progress) error {
	return s.Update(ctx, lab, func(*Progress) (*Progress, error) { return p, nil })
}

// Update reads, changes and writes back the lab's progress; a write that
// lost a race (409 Conflict) is redone on what the other command wrote.
func (s ConfigMapStore) Update(ctx context.Context, lab string, fn func(cur *Progress) (*Progress, error)) error {
	return s.swap(ctx, func(cm *corev1.ConfigMap) (bool, error) {
		cur, err := decodeProgress(cm, lab)
		if err != nil {
			return false, err
		}
		next, err := fn(cur)
		if err != nil || next == nil {
			return false, err
		}
		next.Lab = lab
		next.Updated = time.Now().UTC()
		b, err := json.Marshal(next)
		if err != nil {
			return false, err
		}
		cm.Data[progressKey(lab)] = string(b)
		return true, nil
	})
}

// Current is the lab the learner started last and, for a lab file, its
// path (on the machine that started it).
func (s ConfigMapStore) Current(ctx context.Context) (lab, file string, err error) {
	_, cm, err := s.get(ctx)
	if err != nil || cm == nil {
		return "", "", err
	}
	lab, file, _ = strings.Cut(strings.TrimSpace(cm.Data["current"]), "\n")
	return strings.TrimSpace(lab), strings.TrimSpace(file), nil
}

// SetCurrent records the current lab ("" clears it).
func (s ConfigMapStore) SetCurrent(ctx context.Context, lab, file string) error {
	return s.swap(ctx, func(cm *corev1.ConfigMap) (bool, error) {
		body := ""
		if lab != "" {
			body = lab + "\n" + file
		}
		if cm.Data["current"] == body {
			return false, nil
		}
		cm.Data["current"] = body
		return true, nil
	})
}

// swap applies change to the ConfigMap (made when missing) and writes it
// if change says so, retrying on conflicts.
func (s ConfigMapStore) swap(ctx context.Context, change func(cm *corev1.ConfigMap) (bool, error)) error {
	for attempt := 0; ; attempt++ {
		c, cm, err := s.get(ctx)
		if err != nil {
			return err
		}
		create := cm == nil
		if create {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
				Name: ProgressConfigMap, Namespace: s.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "labs", "labs.dev/progress": "true"},
			}}
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		write, err := change(cm)
		if err != nil || !write {
			return err
		}
		if create {
			_, err = c.CoreV1().ConfigMaps(s.Namespace).Create(ctx, cm, metav1.CreateOptions{})
		} else {
			_, err = c.CoreV1().ConfigMaps(s.Namespace).Update(ctx, cm, metav1.UpdateOptions{})
		}
		switch {
		case err == nil:
			return nil
		case (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < 20:
			continue // another command wrote first: redo the change on theirs
		case ctx.Err() != nil:
			return ctx.Err()
		}
		return fmt.Errorf("writing your progress (ConfigMap %s in namespace %s): %w", ProgressConfigMap, s.Namespace, err)
	}
}

// ReadProgressConfigMap reads a learner's progress ConfigMap as an
// instructor's view does: the current lab, and each lab's progress (a
// damaged key is left out).
func ReadProgressConfigMap(cm *corev1.ConfigMap) (current string, labs map[string]*Progress) {
	current, _, _ = strings.Cut(strings.TrimSpace(cm.Data["current"]), "\n")
	labs = map[string]*Progress{}
	for k := range cm.Data {
		lab, ok := strings.CutSuffix(k, ".json")
		if !ok {
			continue
		}
		if p, err := decodeProgress(cm, lab); err == nil && p != nil {
			labs[lab] = p
		}
	}
	return strings.TrimSpace(current), labs
}
