{{- define "mirror.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mirror.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mirror.labels" -}}
{{ include "mirror.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mirror.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "mirror.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "mirror.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* The spec options shared by run and plan; fails on zero or several spec sources. */}}
{{- define "mirror.specArgs" -}}
{{- $sources := 0 -}}
{{- if .Values.spec.inline }}{{ $sources = add1 $sources }}{{ end -}}
{{- if .Values.spec.existingConfigMap }}{{ $sources = add1 $sources }}{{ end -}}
{{- if .Values.spec.git.url }}{{ $sources = add1 $sources }}{{ end -}}
{{- if ne $sources 1 -}}
{{- fail "set exactly one of spec.inline, spec.existingConfigMap and spec.git.url" -}}
{{- end -}}
{{- if .Values.spec.git.url }}
- --git
- {{ .Values.spec.git.url | quote }}
- --ref
- {{ required "spec.git.ref is required with spec.git.url" .Values.spec.git.ref | quote }}
{{- with .Values.spec.git.path }}
- --path
- {{ . | quote }}
{{- end }}
{{- else }}
- --config
- /etc/mirror/mirror.yaml
{{- end }}
{{- range .Values.spec.flows }}
- --flow
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Secrets as env vars, and MIRROR_ALLOW_ENV naming exactly them. */}}
{{- define "mirror.env" -}}
{{- $names := list -}}
{{- range .Values.secretEnv }}
{{- if not (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" .name) }}
{{- fail (printf "secretEnv: %q is not an environment variable name" .name) }}
{{- end }}
{{- $names = append $names .name }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ required "secretEnv[].secretName is required" .secretName | quote }}
      key: {{ required "secretEnv[].key is required" .key | quote }}
{{- end }}
{{- if $names }}
- name: MIRROR_ALLOW_ENV
  value: {{ join "," $names | quote }}
{{- end }}
- name: MIRROR_GIT_CACHE
  value: /var/cache/mirror/git
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "mirror.volumes" -}}
- name: git-cache
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if not .Values.spec.git.url }}
- name: spec
  configMap:
    name: {{ .Values.spec.existingConfigMap | default (include "mirror.fullname" .) | quote }}
    items:
      - {key: mirror.yaml, path: mirror.yaml}
{{- end }}
{{- end -}}

{{- define "mirror.volumeMounts" -}}
- {name: git-cache, mountPath: /var/cache/mirror}
- {name: tmp, mountPath: /tmp}
{{- if not .Values.spec.git.url }}
- {name: spec, mountPath: /etc/mirror, readOnly: true}
{{- end }}
{{- end -}}
