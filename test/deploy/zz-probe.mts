import { validateManifests, kustomize } from './lib/k8s.js'
console.time('all')
const m = kustomize('/work/main/k8s/base')
console.log(m.map(x=>x.kind+'/'+x.metadata.name).join(' '))
console.log(await validateManifests(m))
console.timeEnd('all')
