'use strict'
// Loads Debian's MQTT.js (node-mqtt) and says which version it is.
//
// Debian installs the library and its dependencies (xtend, mqtt-packet,
// reinterval, …) side by side under /usr/share/nodejs, a folder Debian's
// own nodejs searches but this machine's node v20 does not: the library's
// require('xtend') fails without it. Adding it the way NODE_PATH does
// (Module._initPaths re-reads NODE_PATH) lets the launcher run plain
// `node driver.js`.

const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const Module = require('node:module')

const DEBIAN_MODULES = '/usr/share/nodejs'
const LIB_DIR = path.join(DEBIAN_MODULES, 'mqtt')

function addModulePath (dir) {
  const paths = (process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean)
  if (paths.includes(dir)) return
  process.env.NODE_PATH = [...paths, dir].join(path.delimiter)
  Module._initPaths()
}

addModulePath(DEBIAN_MODULES)
const mqtt = require(LIB_DIR)

// version is the installed library's upstream version. Debian's
// changelog is the authority: upstream's tag v4.3.7 (the source of
// Debian's 4.3.7-2, lib/ identical) left package.json at "4.3.6", so
// the package.json field names the release before the one installed.
function version () {
  try {
    const head = zlib.gunzipSync(fs.readFileSync('/usr/share/doc/node-mqtt/changelog.Debian.gz')).toString('utf8', 0, 200)
    const m = /^node-mqtt \(([^)-]+)(?:-[^)]*)?\)/.exec(head)
    if (m) return m[1]
  } catch {
    // not installed from the Debian package: fall back on package.json
  }
  return JSON.parse(fs.readFileSync(path.join(LIB_DIR, 'package.json'), 'utf8')).version
}

module.exports = { mqtt, LIB_DIR, VERSION: version() }
