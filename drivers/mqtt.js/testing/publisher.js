'use strict'
// A second MQTT.js client in the test process, playing the server side's
// publishes: {"n": k} at QoS 1, as the harness's publish step does.

const { mqtt } = require('../lib/mqttjs')

function publisher (stops, url) {
  const c = mqtt.connect(url, { clientId: `fl-test-pub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 100 })
  stops.push(() => new Promise((resolve) => c.end(true, resolve)))
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`publisher: no CONNACK from ${url}`)), 5000)
    c.once('connect', () => { clearTimeout(t); resolve() })
  })
  return {
    client: c,
    ready,
    publish: async (topic, n) => {
      await ready
      return new Promise((resolve, reject) => c.publish(topic, JSON.stringify({ n }), { qos: 1 }, (e) => e ? reject(e) : resolve()))
    }
  }
}

module.exports = { publisher }
