package wire

import (
	"bytes"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Encode is cp's bytes on the wire, by paho's encoder.
func Encode(cp packets.ControlPacket) []byte {
	var b bytes.Buffer
	_ = cp.Write(&b) // a bytes.Buffer does not fail
	return b.Bytes()
}

// Connack is a CONNACK with return code code; sessionPresent is sent only
// by a 3.1.1 broker, so callers pass false to a 3.1 (MQIsdp) client.
func Connack(code byte, sessionPresent bool) []byte {
	p := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
	p.ReturnCode, p.SessionPresent = code, sessionPresent
	return Encode(p)
}

// Publish is a PUBLISH of payload on topic; pid is sent only for QoS > 0.
func Publish(topic string, payload []byte, qos byte, dup bool, pid uint16) []byte {
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.TopicName, p.Payload, p.Qos, p.Dup = topic, payload, qos, dup
	if qos > 0 {
		p.MessageID = pid
	}
	return Encode(p)
}

// Puback acknowledges a QoS 1 PUBLISH.
func Puback(pid uint16) []byte {
	p := packets.NewControlPacket(packets.Puback).(*packets.PubackPacket)
	p.MessageID = pid
	return Encode(p)
}

// Suback answers a SUBSCRIBE with one return code (granted QoS, or 0x80)
// per filter.
func Suback(pid uint16, codes []byte) []byte {
	p := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
	p.MessageID, p.ReturnCodes = pid, codes
	return Encode(p)
}

// Unsuback answers an UNSUBSCRIBE.
func Unsuback(pid uint16) []byte {
	p := packets.NewControlPacket(packets.Unsuback).(*packets.UnsubackPacket)
	p.MessageID = pid
	return Encode(p)
}

// Pingresp answers a PINGREQ.
func Pingresp() []byte { return Encode(packets.NewControlPacket(packets.Pingresp)) }
