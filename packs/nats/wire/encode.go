package wire

import (
	"encoding/json"
	"strconv"
)

// Info is the server's INFO: the fields a client library reads to connect,
// to learn its identity (server_id, client_id) and to learn the cluster's
// other members (connect_urls) and a going-away notice (ldm).
type Info struct {
	ServerID    string   `json:"server_id"`
	ServerName  string   `json:"server_name"`
	Version     string   `json:"version"`
	Proto       int      `json:"proto"`
	Host        string   `json:"host"`
	Port        int      `json:"port"`
	Headers     bool     `json:"headers"`
	MaxPayload  int64    `json:"max_payload"`
	ClientID    uint64   `json:"client_id,omitempty"`
	ConnectURLs []string `json:"connect_urls,omitempty"`
	LameDuck    bool     `json:"ldm,omitempty"`
}

// AppendInfo appends INFO <json> CRLF.
func AppendInfo(b []byte, info Info) []byte {
	js, err := json.Marshal(info)
	if err != nil { // strings, numbers and bools only: cannot happen
		panic("wire: INFO does not marshal: " + err.Error())
	}
	b = append(b, "INFO "...)
	b = append(b, js...)
	return append(b, crlf...)
}

// AppendMsg appends MSG <subject> <sid> [reply] <#bytes> CRLF payload CRLF.
func AppendMsg(b []byte, subject, sid, reply string, payload []byte) []byte {
	b = append(b, "MSG "...)
	b = append(b, subject...)
	b = append(b, ' ')
	b = append(b, sid...)
	b = appendOpt(b, reply)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, crlf...)
	b = append(b, payload...)
	return append(b, crlf...)
}

// AppendHMsg appends HMSG <subject> <sid> [reply] <#header bytes> <#total
// bytes> CRLF headers payload CRLF.
func AppendHMsg(b []byte, subject, sid, reply string, header, payload []byte) []byte {
	b = append(b, "HMSG "...)
	b = append(b, subject...)
	b = append(b, ' ')
	b = append(b, sid...)
	b = appendOpt(b, reply)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(header)), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(header)+len(payload)), 10)
	b = append(b, crlf...)
	b = append(b, header...)
	b = append(b, payload...)
	return append(b, crlf...)
}

// AppendPing appends PING CRLF.
func AppendPing(b []byte) []byte { return append(b, "PING\r\n"...) }

// AppendPong appends PONG CRLF.
func AppendPong(b []byte) []byte { return append(b, "PONG\r\n"...) }

// AppendOK appends +OK CRLF (the answer to every op of a verbose client).
func AppendOK(b []byte) []byte { return append(b, "+OK\r\n"...) }

// AppendErr appends -ERR '<text>' CRLF. A quote or line end in text would
// end the error early, and a client would read the rest as an op: they are
// replaced.
func AppendErr(b []byte, text string) []byte {
	b = append(b, "-ERR '"...)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\'' || c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, "'\r\n"...)
}
