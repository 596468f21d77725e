{{/* Chart name, overridable. */}}
{{- define "health-tracker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name of every object. */}}
{{- define "health-tracker.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "health-tracker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "health-tracker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: health-tracker
{{- end -}}

{{/* Selector labels; each workload adds app.kubernetes.io/component. */}}
{{- define "health-tracker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "health-tracker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "health-tracker.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "health-tracker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "health-tracker.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "health-tracker.secretName" -}}
{{- if .Values.secret.create -}}
{{- printf "%s-secrets" (include "health-tracker.fullname" .) -}}
{{- else -}}
{{- required "secret.existingSecret is required when secret.create is false" .Values.secret.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* envFrom of every app container: the ConfigMap, then the Secret. */}}
{{- define "health-tracker.envFrom" -}}
- configMapRef:
    name: {{ include "health-tracker.fullname" . }}-config
- secretRef:
    name: {{ include "health-tracker.secretName" . }}
{{- end -}}

{{/* Pod annotations that roll the pods when settings change. */}}
{{- define "health-tracker.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if .Values.secret.create }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}
