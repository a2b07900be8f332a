// Package deploy holds no code: it is the folder of faultline's deployment
// files, a GitHub Actions workflow (github-actions.yml) and Kubernetes
// manifests (kubernetes/) that run the suite in shards (faultline run
// --shard) and merge their reports (faultline report --merge). Neither can
// run here; its tests parse them and check how their parts fit together.
// See docs/scale-out.md.
package deploy
