package s3xml

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// Namespace is the XML namespace of S3's documents.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxDocument is the largest document accepted; S3's own limits
// (1,000 lifecycle rules, 100 CORS rules) fit well below it.
const maxDocument = 1 << 20

// docError is a document S3 would refuse.
type docError struct {
	doc, reason string
}

func (e *docError) Error() string { return e.doc + ": " + e.reason }
func (e *docError) Unwrap() error { return s3io.ErrInvalidArgument }

func invalid(doc, format string, args ...any) error {
	return &docError{doc: doc, reason: fmt.Sprintf(format, args...)}
}

// schema maps each container element to the children it may have; true
// marks a child that may repeat. Elements that are not keys are leaves,
// with text only. S3's documents reuse a name only for the same shape
// (Tag, Prefix), so the parent's name is enough context.
type schema map[string]map[string]bool

// leafParsers check the text of the leaves that are not strings, so that
// an error names the element (encoding/xml's would not).
var leafParsers = map[string]func(string) error{
	"Days":                      parseInt32,
	"NoncurrentDays":            parseInt32,
	"NewerNoncurrentVersions":   parseInt32,
	"DaysAfterInitiation":       parseInt32,
	"MaxAgeSeconds":             parseInt32,
	"ObjectSizeGreaterThan":     parseInt64,
	"ObjectSizeLessThan":        parseInt64,
	"ExpiredObjectDeleteMarker": parseBool,
	"Date":                      parseTime,
}

// Numbers and booleans may have spaces around them; times may not, as
// time.Time's UnmarshalText, which encoding/xml calls, takes none.
func parseInt32(s string) error { _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32); return err }
func parseInt64(s string) error { _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); return err }
func parseBool(s string) error  { _, err := strconv.ParseBool(strings.TrimSpace(s)); return err }
func parseTime(s string) error  { _, err := time.Parse(time.RFC3339, s); return err }

// decode checks doc against the schema, then unmarshals it into v.
// encoding/xml alone would silently drop a misspelt element, and the rule
// it belonged to would then mean something else.
func decode(doc, root string, sch schema, v any) error {
	if len(doc) > maxDocument {
		return invalid(root, "document of %d bytes, more than %d", len(doc), maxDocument)
	}
	if err := checkStructure(doc, root, sch); err != nil {
		return err
	}
	if err := xml.Unmarshal([]byte(doc), v); err != nil {
		return invalid(root, "%v", err)
	}
	return nil
}

func checkStructure(doc, root string, sch schema) error {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var stack []openElement
	var text strings.Builder // of the innermost leaf
	rootSeen := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return invalid(root, "not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" && t.Name.Space != Namespace {
				return invalid(root, "element <%s> in namespace %q, want S3's (%s) or none", name, t.Name.Space, Namespace)
			}
			if len(stack) == 0 {
				if rootSeen || name != root {
					return invalid(root, "root element <%s>, want one <%s>", name, root)
				}
				rootSeen = true
			} else {
				parent := &stack[len(stack)-1]
				children, isContainer := sch[parent.name]
				repeats, known := children[name]
				switch {
				case !isContainer:
					return invalid(root, "<%s> holds text only, not <%s>", parent.name, name)
				case !known:
					return invalid(root, "unknown element <%s> in <%s>", name, parent.name)
				case parent.seen[name] && !repeats:
					return invalid(root, "<%s> given twice in <%s>", name, parent.name)
				}
				parent.seen[name] = true
			}
			stack = append(stack, openElement{name: name, seen: map[string]bool{}})
			text.Reset()
		case xml.EndElement:
			// The decoder has checked that the tags match.
			name := stack[len(stack)-1].name
			stack = stack[:len(stack)-1]
			if parse := leafParsers[name]; parse != nil && sch[name] == nil && parse(text.String()) != nil {
				return invalid(root, "<%s> holds %.30q, which is not a valid value", name, text.String())
			}
		case xml.CharData:
			switch s := strings.TrimSpace(string(t)); {
			case len(stack) > 0 && sch[stack[len(stack)-1].name] == nil:
				text.Write(t) // a leaf's value
			case s == "":
			case len(stack) == 0:
				return invalid(root, "text %.20q outside <%s>", s, root)
			default:
				return invalid(root, "text %.20q in <%s>", s, stack[len(stack)-1].name)
			}
		case xml.Directive:
			return invalid(root, "directive <!%.20s> not allowed", t)
		}
	}
	if !rootSeen {
		return invalid(root, "no <%s> element", root)
	}
	return nil
}

// openElement is an element whose end the walk has not reached, with the
// children seen in it so far.
type openElement struct {
	name string
	seen map[string]bool
}

// encode writes v as root, in S3's namespace, after an XML declaration.
func encode(root string, v any) string {
	var b strings.Builder
	b.WriteString(xml.Header[:len(xml.Header)-1]) // without the newline
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Space: Namespace, Local: root}}); err != nil {
		// Only unsupported types fail, and this package has none.
		panic(fmt.Sprintf("s3xml: encode %s: %v", root, err))
	}
	if err := enc.Close(); err != nil {
		panic(fmt.Sprintf("s3xml: encode %s: %v", root, err))
	}
	return b.String()
}
