package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// SaveImage writes image ref to w as `docker save` does: a tar of its
// layers and config, which LoadImage (or `docker load`) reads back.
func (e *Engine) SaveImage(ctx context.Context, ref string, w io.Writer) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	rc, err := cli.ImageSave(ctx, []string{ref})
	if err != nil {
		return fmt.Errorf("saving image %s: %w", ref, err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("saving image %s: %w", ref, err)
	}
	return nil
}

// LoadImage loads a `docker save` tar from r into the engine. The engine
// tags an image only once all of it is in, so a failure leaves no image
// behind under its name.
func (e *Engine) LoadImage(ctx context.Context, r io.Reader) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	resp, err := cli.ImageLoad(ctx, r)
	if err != nil {
		return fmt.Errorf("loading an image: %w", err)
	}
	defer resp.Body.Close()
	// The engine answers with a stream of JSON messages; a failure is one
	// of them, not the HTTP status.
	dec := json.NewDecoder(resp.Body)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("loading an image: reading the engine's answer: %w", err)
		}
		if m.Error != "" || m.ErrorDetail.Message != "" {
			return fmt.Errorf("loading an image: %s%s", m.Error, m.ErrorDetail.Message)
		}
	}
}

// TagImage gives image ref the name tag as well.
func (e *Engine) TagImage(ctx context.Context, ref, tag string) error {
	cli, err := e.client()
	if err != nil {
		return err
	}
	if err := cli.ImageTag(ctx, ref, tag); err != nil {
		return fmt.Errorf("naming image %s %s: %w", ref, tag, err)
	}
	return nil
}
