package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// PlaceholderValue stands for what cannot be known without a cluster (a
// fact such as ${LAB_WORKER_1}, a shell expansion) when a manifest is
// decoded strictly: a YAML string that is also a valid name, label value
// and quantity.
const PlaceholderValue = "1m"

// WithPlaceholders replaces every ${NAME} of a lab variable in text by
// PlaceholderValue.
func WithPlaceholders(text string) string {
	return varRef.ReplaceAllString(text, PlaceholderValue)
}

// DecodeManifest decodes one YAML document strictly with the Kubernetes
// scheme: a misspelt or unknown field is an error, as `kubectl apply`
// would say only on a cluster. It returns nil, with the document's
// TypeMeta, for a custom resource (its schema lives in the cluster). An
// error from the YAML itself says its line within doc (`yaml: line N`).
func DecodeManifest(doc []byte) (runtime.Object, runtime.TypeMeta, error) {
	var tm runtime.TypeMeta
	if err := utilyaml.Unmarshal(doc, &tm); err != nil {
		return nil, tm, err
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return nil, tm, errors.New("every object needs apiVersion and kind")
	}
	gv, _ := schema.ParseGroupVersion(tm.APIVersion)
	codecs := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{Yaml: true, Strict: true})
	obj, _, err := codecs.Decode(doc, nil, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) && !scheme.Scheme.IsGroupRegistered(gv.Group) {
			return nil, tm, nil
		}
		return nil, tm, fmt.Errorf("%s: %s", tm.Kind, strings.TrimPrefix(err.Error(), "strict decoding error: "))
	}
	return obj, tm, nil
}

// manifestObject reads a check's one-object manifest, a map or YAML text:
// decoded strictly (with placeholders for the lab's variables, which the
// lab's checks hold unexpanded when the file is read) and kept as the
// object to send.
func manifestObject(raw json.RawMessage) (*unstructured.Unstructured, error) {
	var text string
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0 || string(t) == "null":
		return nil, fmt.Errorf("field %q is required: one Kubernetes object, as a map or YAML text", "manifest")
	case t[0] == '{':
		text = string(t) // JSON is YAML
	case t[0] == '"':
		if err := json.Unmarshal(t, &text); err != nil {
			return nil, fmt.Errorf("manifest: %v", err)
		}
		docs := 0
		for _, d := range strings.Split("\n"+text, "\n---") {
			if strings.TrimSpace(stripYAMLComments(d)) != "" {
				docs++
			}
		}
		if docs != 1 {
			return nil, fmt.Errorf("manifest holds %d objects: give exactly one", docs)
		}
	default:
		return nil, fmt.Errorf("field %q must be one Kubernetes object, as a map or YAML text, not %s", "manifest", t)
	}
	if _, _, err := DecodeManifest([]byte(WithPlaceholders(text))); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	js, err := yaml.YAMLToJSON([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("manifest: %v", err)
	}
	if u.GetName() == "" && u.GetGenerateName() == "" {
		return nil, fmt.Errorf("manifest: the %s needs metadata.name", u.GetKind())
	}
	return u, nil
}

func stripYAMLComments(doc string) string {
	var b strings.Builder
	for _, ln := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(ln), "#") {
			b.WriteString(ln)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
