package wire

import (
	"strings"
	"unicode/utf8"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// checkHeader checks the first byte: a type MQTT defines, and the flags
// MQTT 3.1.1 §2.2.2 fixes for it (PUBLISH's carry DUP, QoS and RETAIN).
func checkHeader(b0 byte) error {
	typ, flags := b0>>4, b0&0x0f
	name := Name(typ)
	switch typ {
	case 0, 15:
		return errf(name, "reserved packet type %d", typ)
	case packets.Publish:
		if (flags>>1)&0x03 == 3 {
			return errf(name, "QoS 3 is reserved")
		}
		if flags&0x08 != 0 && (flags>>1)&0x03 == 0 {
			return errf(name, "DUP set on a QoS 0 message")
		}
	case packets.Subscribe, packets.Unsubscribe, packets.Pubrel:
		if flags != 0x02 {
			return errf(name, "fixed header flags 0x%x, must be 0x2", flags)
		}
	default:
		if flags != 0 {
			return errf(name, "fixed header flags 0x%x, must be 0x0", flags)
		}
	}
	return nil
}

// check checks what MQTT 3.1.1 requires of a decoded packet's fields. The
// CONNECT's protocol name and level are not checked here: a broker answers
// a level it does not speak with a CONNACK, not a close.
func check(cp packets.ControlPacket) error {
	switch p := cp.(type) {
	case *packets.ConnectPacket:
		return checkConnect(p)
	case *packets.PublishPacket:
		if p.Qos > 0 && p.MessageID == 0 {
			return errf("PUBLISH", "packet identifier 0")
		}
		if err := ValidTopic(p.TopicName); err != nil {
			return errf("PUBLISH", "topic name %q: %v", p.TopicName, err)
		}
	case *packets.SubscribePacket:
		if p.MessageID == 0 {
			return errf("SUBSCRIBE", "packet identifier 0")
		}
		if len(p.Topics) == 0 {
			return errf("SUBSCRIBE", "no topic filter")
		}
		for i, f := range p.Topics {
			if err := ValidFilter(f); err != nil {
				return errf("SUBSCRIBE", "topic filter %q: %v", f, err)
			}
			if p.Qoss[i] > 2 {
				return errf("SUBSCRIBE", "requested QoS byte 0x%x for %q (reserved bits or QoS 3)", p.Qoss[i], f)
			}
		}
	case *packets.UnsubscribePacket:
		if p.MessageID == 0 {
			return errf("UNSUBSCRIBE", "packet identifier 0")
		}
		if len(p.Topics) == 0 {
			return errf("UNSUBSCRIBE", "no topic filter")
		}
		for _, f := range p.Topics {
			if err := ValidFilter(f); err != nil {
				return errf("UNSUBSCRIBE", "topic filter %q: %v", f, err)
			}
		}
	case *packets.PubackPacket:
		if p.MessageID == 0 {
			return errf("PUBACK", "packet identifier 0")
		}
	}
	return nil
}

// checkConnect checks CONNECT's flags (§3.1.2.3–3.1.2.9) and strings.
func checkConnect(p *packets.ConnectPacket) error {
	switch {
	case p.ReservedBit != 0:
		return errf("CONNECT", "reserved flag set")
	case !p.WillFlag && (p.WillQos != 0 || p.WillRetain):
		return errf("CONNECT", "will QoS or retain set without the will flag")
	case p.WillQos == 3:
		return errf("CONNECT", "will QoS 3")
	case p.PasswordFlag && !p.UsernameFlag:
		return errf("CONNECT", "password flag without the user name flag")
	}
	if err := validString(p.ClientIdentifier); err != nil {
		return errf("CONNECT", "client identifier: %v", err)
	}
	if p.WillFlag {
		if err := ValidTopic(p.WillTopic); err != nil {
			return errf("CONNECT", "will topic %q: %v", p.WillTopic, err)
		}
	}
	if p.UsernameFlag {
		if err := validString(p.Username); err != nil {
			return errf("CONNECT", "user name: %v", err)
		}
	}
	return nil
}

type formError string

func (e formError) Error() string { return string(e) }

// validString is MQTT's UTF-8 string rule (§1.5.3): well-formed UTF-8
// (Go's decoder also refuses surrogates) without U+0000.
func validString(s string) error {
	if !utf8.ValidString(s) {
		return formError("not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return formError("contains U+0000")
	}
	return nil
}

// ValidTopic checks a topic name a message is published to: a non-empty
// UTF-8 string without wildcards (§4.7.3, §3.3.2.1).
func ValidTopic(t string) error {
	if t == "" {
		return formError("empty")
	}
	if strings.ContainsAny(t, "+#") {
		return formError("wildcards are not allowed in a topic name")
	}
	return validString(t)
}

// ValidFilter checks a subscription's topic filter (§4.7.1): '#' only as
// the whole last level, '+' only as a whole level.
func ValidFilter(f string) error {
	if f == "" {
		return formError("empty")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return formError("'#' must be the last level")
		case l != "#" && strings.Contains(l, "#"):
			return formError("'#' must be a whole level")
		case l != "+" && strings.Contains(l, "+"):
			return formError("'+' must be a whole level")
		}
	}
	return validString(f)
}

// Match says whether topic matches filter (§4.7): '+' matches one level,
// '#' the rest (also none: "a/#" matches "a"), and a filter that begins
// with a wildcard does not match a topic that begins with '$'.
func Match(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case !tmore:
			return frest == "#" // "a/#" matches "a"
		case !fmore:
			return false
		}
		filter, topic = frest, trest
	}
}
