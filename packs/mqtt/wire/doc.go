// Package wire frames MQTT 3.1.1 control packets for faultline's fake
// broker. The packets themselves are paho's (github.com/eclipse/paho.mqtt.golang/packets):
// this package only bounds what paho would trust. Paho's ReadPacket
// allocates whatever remaining length a peer declares, and its field
// decoders accept short reads silently; Read here reads the fixed header
// itself, refuses a remaining length over the limit before allocating,
// hands paho a reader that fails a short field instead of zero-filling it,
// and then checks what MQTT 3.1.1 requires of a packet's form (fixed header
// flags, packet identifiers, topic names and filters, UTF-8). Every
// violation is an *Error naming the packet type and what was wrong.
package wire
