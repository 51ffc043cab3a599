// Export an exact amount from a wallet into a file, then poll the task until it ends
// (Go standard library only).
//
// Settings (environment): CLOUDCOIN_SERVER (default http://127.0.0.1:8006, as for the CLI; or
// CLOUDCOIN_API, the /api/v1 address), WALLET (Default), AMOUNT (10.5), FOLDER
// (/tmp/cloudcoin-out, which must exist), TYPE (zip: stack, png, zip or bin).
// The token: CLOUDCOIN_TOKEN, else the server's token file (in CLOUDCOIN_DATA_DIR, else its
// default data directory); with none, the server must run with --no-auth (loopback only):
//
//	cloudcoin-server --no-auth
//
//	go run examples/clients/export.go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// envelope is every answer of the API: {"status":..., "payload":{...}}.
type envelope struct {
	Status  string `json:"status"`
	Payload struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Progress int    `json:"progress"`
		Message  string `json:"message"`
		Data     struct {
			File string `json:"file"`
		} `json:"data"`
	} `json:"payload"`
}

func setting(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// token is CLOUDCOIN_TOKEN, else the server's token file, else "" (no token sent).
func token() string {
	if t := strings.TrimSpace(os.Getenv("CLOUDCOIN_TOKEN")); t != "" {
		return t
	}
	dir := os.Getenv("CLOUDCOIN_DATA_DIR")
	if dir == "" {
		dir = setting("XDG_DATA_HOME", os.Getenv("HOME")+"/.local/share") + "/cloudcoin-server"
	}
	if b, err := os.ReadFile(dir + "/.cloudcoin/api-token"); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

// call sends a request with the token, when there is one.
func call(method, url string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if t := token(); t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	return http.DefaultClient.Do(req)
}

func decode(resp *http.Response) envelope {
	defer resp.Body.Close()
	var e envelope
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		fmt.Fprintln(os.Stderr, "the answer is not JSON:", err)
		os.Exit(1)
	}
	return e
}

func main() {
	api := setting("CLOUDCOIN_API", setting("CLOUDCOIN_SERVER", "http://127.0.0.1:8006")+"/api/v1")
	// The amount goes as a JSON string so it stays exact; a JSON number works too.
	request, _ := json.Marshal(map[string]string{
		"name":   setting("WALLET", "Default"),
		"amount": setting("AMOUNT", "10.5"),
		"folder": setting("FOLDER", "/tmp/cloudcoin-out"),
		"type":   setting("TYPE", "zip"),
	})
	resp, err := call("POST", api+"/export", request)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot reach the server:", err)
		os.Exit(1)
	}
	fmt.Println("POST /export:", resp.Status)
	answer := decode(resp)
	if answer.Payload.Status == "error" {
		fmt.Fprintln(os.Stderr, "Export refused:", answer.Payload.Message)
		os.Exit(1)
	}
	id := answer.Payload.ID
	fmt.Printf("Export task %s started\n", id)

	for {
		resp, err := call("GET", api+"/tasks/"+id, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot reach the server:", err)
			os.Exit(1)
		}
		task := decode(resp)
		fmt.Printf("Progress: %d%%\n", task.Payload.Progress)
		switch task.Payload.Status {
		case "completed":
			fmt.Println("Export completed:", task.Payload.Data.File)
			return
		case "error":
			fmt.Fprintln(os.Stderr, "Export failed:", task.Payload.Message)
			os.Exit(1)
		}
		time.Sleep(time.Second)
	}
}
