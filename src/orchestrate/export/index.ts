/** Export a Flow to Kubernetes manifests, a Docker Compose file, or a picture of its graph. */
export {
  toKubernetes,
  kubernetesObjects,
  K8S_TIMING,
  type KubernetesOptions,
  type KubernetesExport,
  type KubernetesObject,
} from './kubernetes.js';
export {
  toDockerCompose,
  COMPOSE_TIMING,
  type DockerComposeOptions,
  type DockerComposeExport,
} from './docker-compose.js';
export { renderFlowchart, type FlowchartOptions } from './flowchart.js';
export { gatewayFlowSpec, gatewayCommand, GATEWAY_FLOW_PATH } from './gateway-flow.js';
export { planExport, flowgateVersion, type ExportOptions } from './plan.js';
