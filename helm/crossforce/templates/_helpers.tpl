{{/* Names. The gateway is RELEASE-gateway, so the bundled Neo4j (named RELEASE) never clashes. */}}
{{- define "crossforce.fullname" -}}
{{- printf "%s-gateway" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "crossforce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "crossforce.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end -}}

{{- define "crossforce.labels" -}}
helm.sh/chart: {{ include "crossforce.chart" . }}
{{ include "crossforce.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: crossforce
{{- end -}}

{{- define "crossforce.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "crossforce.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "crossforce.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The graph the hub uses: the bundled Neo4j's service, or the external URI. */}}
{{- define "crossforce.graphUri" -}}
{{- if .Values.graph.uri -}}
{{- .Values.graph.uri -}}
{{- else if .Values.neo4j.enabled -}}
{{- printf "neo4j://%s:7687" .Release.Name -}}
{{- else -}}
{{- fail "graph.uri is required unless neo4j.enabled is true (the hub needs a Neo4j to use)" -}}
{{- end -}}
{{- end -}}

{{- define "crossforce.policiesConfigMap" -}}
{{- default (printf "%s-policies" (include "crossforce.fullname" .)) .Values.policies.existingConfigMap -}}
{{- end -}}
