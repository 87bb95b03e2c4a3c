{{/* The StatefulSet's name, and the prefix of its pods' names and of the Services'. */}}
{{- define "zookeeper.name" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service that gives each pod its DNS name. */}}
{{- define "zookeeper.headless" -}}
{{- include "zookeeper.name" . }}-hs
{{- end -}}

{{/* The labels every object carries. */}}
{{- define "zookeeper.labels" -}}
{{ include "zookeeper.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The labels that select this release's pods. */}}
{{- define "zookeeper.selector" -}}
app.kubernetes.io/name: zookeeper
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Voting servers: the pods that do not observe. */}}
{{- define "zookeeper.voters" -}}
{{- sub (int .Values.replicas) (int .Values.observers) -}}
{{- end -}}

{{/* What the schema cannot say: rules between values. */}}
{{- define "zookeeper.check" -}}
{{- if ge (int .Values.observers) (int .Values.replicas) -}}
{{- fail (printf "observers (%d) must be fewer than replicas (%d): at least one pod votes" (int .Values.observers) (int .Values.replicas)) -}}
{{- end -}}
{{- end -}}

{{/* The checkov checks every workload here skips, each with its reason. */}}
{{- define "zookeeper.checkovSkips" -}}
checkov.io/skip1: "CKV_K8S_21=the namespace is the release's (helm install -n NAME)"
{{- end -}}
