# Adds a folder to, or removes it from, the user's or the machine's PATH. Run by the Windows installer and its
# uninstaller (installer/windows/efficientnet.nsh.in) for bin\cli, the folder that holds only the console tool's
# launcher.
#
# Why not CPack's own NSIS code: it puts bin\ (and with it some sixty DLLs) on PATH, reads PATH into an NSIS string
# of at most 1024 (or 8192) characters and skips the change when PATH is longer, which on a developer's machine it
# often is (issue 12, finding 7). Here the registry value is read and written whole, left unexpanded and kept as
# REG_EXPAND_SZ (so %SystemRoot%-style entries survive: [Environment]::SetEnvironmentVariable would expand them and
# store REG_SZ), and only entries equal to the folder are touched. The installer broadcasts WM_SETTINGCHANGE after it.
#
#   edit_path.ps1 -Action Add|Remove -Scope User|Machine -Folder C:\...\bin\cli
param(
    [Parameter(Mandatory = $true)][ValidateSet('Add', 'Remove')][string]$Action,
    [Parameter(Mandatory = $true)][ValidateSet('User', 'Machine')][string]$Scope,
    [Parameter(Mandatory = $true)][string]$Folder
)
$ErrorActionPreference = 'Stop'

if ($Scope -eq 'Machine') {
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey(
        'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', $true)
} else {
    $key = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey('Environment')
}
try {
    $old = [string]$key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $wanted = $Folder.Trim().TrimEnd('\')
    $kept = @($old -split ';' | Where-Object { $_.Trim() -ne '' -and $_.Trim().TrimEnd('\') -ine $wanted })
    if ($Action -eq 'Add') {
        $kept += $wanted
    }
    $new = $kept -join ';'
    if ($new -ne $old) {
        $key.SetValue('Path', $new, [Microsoft.Win32.RegistryValueKind]::ExpandString)
        Write-Output "PATH ($Scope): $Action $wanted"
    } else {
        Write-Output "PATH ($Scope): unchanged ($wanted)"
    }
} finally {
    $key.Close()
}
